"""What a stack is run with: its configuration, the credentials it needs and where they are named, where its
Kubernetes objects go, and interpreter tuning. Not components: nothing here declares a backup of its own."""

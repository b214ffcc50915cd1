"""Runbooks: the stack-output contract restore procedures read, and the generator that writes them."""

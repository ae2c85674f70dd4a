"""Dereferences a null pointer in the main process."""

import ctypes

ctypes.string_at(0)

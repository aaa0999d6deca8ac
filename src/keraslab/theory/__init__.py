"""The slides' back-up pages as checked demonstrations."""

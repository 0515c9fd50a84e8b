"""Everything that touches files: sniffing, reading, writing, atomic saves."""

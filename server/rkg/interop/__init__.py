"""One module per outside format: ESCO (``esco``), SSSOM mapping sets (``sssom``). Nothing here knows
Flask; the CLI and the build call these functions."""

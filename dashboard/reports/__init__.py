"""Report builders: PDF, CSV, Excel and de-identified extracts (pure: data in, bytes out)."""

"""Pure clinical logic: catalog, validation, scoring. No ORM, no streamlit."""

"""The only package modules that import streamlit: engine, auth wiring, widgets."""

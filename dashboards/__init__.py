"""Streamlit multipage app: ``streamlit run dashboards/app.py`` or ``learnlake serve``."""

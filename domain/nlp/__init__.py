"""Offline Russian NLP: processors that find passages worth illustrating, and their ensemble."""

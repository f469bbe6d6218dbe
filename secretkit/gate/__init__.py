"""The publish gate's results and how they are shown (``secretkit check``)."""

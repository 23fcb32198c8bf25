"""The portal's own HTTP routes beside Streamlit: file, feed and upload routes, and the
security headers on every response.
"""

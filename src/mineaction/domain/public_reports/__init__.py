"""Public reports: a member of the public reports a found item and gets a response.

Pure domain rules (Python, NumPy, Shapely, pyproj): the report and its
validation, its status machine and response times, duplicate folding, the
proof-of-work challenge that stands in for a CAPTCHA, the intake policy and
the safety advice shown before the form. Storage, the web routes and the CLI
build on these; docs/civilians.md lists the tables and routes they need.
"""

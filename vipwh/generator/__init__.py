"""Internals of ``vipwh generate`` (the public entry point is :func:`vipwh.generate.generate_book`)."""

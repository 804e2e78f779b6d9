"""One module per pipeline stage, each runnable as `python -m selfdistill.stages.<name>`.

A stage reads its settings as one JSON object (`--params`, the rule's params) and named input
and output paths, calls library functions, and writes files. Stages never read each other's
internals, only the files earlier stages wrote.
"""

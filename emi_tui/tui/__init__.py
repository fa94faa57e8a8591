"""The Textual wizard; the engine it drives lives in emi_tui.engine.

app.py is the App (themes, the wizard's flow, which screen comes next);
state/ holds what the wizard edits (no Textual: tested without a terminal);
workers/ runs a job off the UI thread and hands its events to a screen;
screens/ holds one screen per file, grouped by flow; widgets/ the pieces they share.
"""

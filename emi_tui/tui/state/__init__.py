"""What the wizard edits and remembers: answers, their problems, the modify's changes, the user's settings.

Nothing here imports Textual (a test holds it to that), so the wizard's rules
are tested without a terminal and the screens only draw them.
"""

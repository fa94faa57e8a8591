"""The wizard's screens, one per file, grouped by flow.

step.py is the frame every wizard step shares (sidebar, problems, Back/Next);
wizard/ the build wizard's steps with Home and Help; modify/ the modify's own
steps (it reuses the wizard's Packages and Metadata); job/ the screens of a
running job and its results; review/ the image-id review.
"""

"""The build wizard: Home, its six steps (Distro to Summary), and Help."""

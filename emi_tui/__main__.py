from emi_tui.cli import main

raise SystemExit(main())

from tuigrad.cli import main

raise SystemExit(main())

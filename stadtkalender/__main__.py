from stadtkalender.cli import main

raise SystemExit(main())

import sys

from desktop_app.app import main

sys.exit(main())

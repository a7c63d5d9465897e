import sys

if sys.argv[1:2] == ["--agent-host"]:
    # The app's executable started as the agent's process (backends/agent_process.py): no window.
    from desktop_app.backends.agent_host import main as agent_host

    sys.exit(agent_host(sys.argv))

from desktop_app.app import main

sys.exit(main())

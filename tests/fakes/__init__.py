"""Fakes the tests share. Servers listen on 127.0.0.1 only.

Servers (``loopback.LoopbackServer``: a free port, started and stopped with ``with``):
  cloud_server.FakeCloud      Browser Use Cloud API v2, validated against the SDK's models
  model_server.FakeModelServer  an OpenAI-compatible chat endpoint answering with scripts, one address each
  ollama_server.FakeOllama    Ollama's model list (``/api/tags``)
  site.SiteServer             a small website (pages in site/) that records what forms submit
  web_page.WebPageServer      any address answers with one page (a captive portal, an intranet)
In-process:
  scripted_backend.ScriptedBackend  a Backend whose answers a test scripts
  scripted_llm                a model's script (steps) and every request it was asked (for model_server)
  backend_listener.RecordingListener  records every callback a backend makes
  event_recorder.Recorder     records every event on an EventBus
  page_inspector              page reports, and an inspector that answers with one
  clock.FakeClock             a clock set by hand
  memory_keyring              in-memory keyrings (plain, one that refuses to store, one that counts reads)

Fixtures over these (``cloud``, ``site``, ``paths``, ``arun``, ``qrun``) are in tests/conftest.py.
"""

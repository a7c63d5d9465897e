"""The domain: who controls the browser, what runs next, what was done. No Qt imports here."""

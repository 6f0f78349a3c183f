"""Windows event records from .evtx files, exported XML and rendered text."""

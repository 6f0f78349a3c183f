"""Times plaso's sccm text plugin on one file; run with plaso's own interpreter.

Usage: /tmp/plaso-venv/bin/python bench/plaso_sccm.py FILE
Prints "<event_data count> <seconds>". Set up like plaso's own plugin tests: a
fake storage writer, an OS path spec, the plugin's Process() on the file object
(format check and timeliner not included).
"""

from __future__ import annotations

import sys
import time

from dfvfs.lib import definitions as dfvfs_definitions
from dfvfs.path import factory as path_spec_factory
from dfvfs.resolver import resolver as path_spec_resolver
from plaso.containers import events
from plaso.parsers import mediator as parsers_mediator
from plaso.parsers.text_plugins import sccm
from plaso.storage.fake import writer as fake_writer


def main(path: str) -> None:
    storage_writer = fake_writer.FakeStorageWriter()
    storage_writer.Open()
    mediator = parsers_mediator.ParserMediator()
    mediator.SetStorageWriter(storage_writer)
    path_spec = path_spec_factory.Factory.NewPathSpec(
        dfvfs_definitions.TYPE_INDICATOR_OS, location=path
    )
    file_entry = path_spec_resolver.Resolver.OpenFileEntry(path_spec)
    mediator.SetFileEntry(file_entry)
    stream = events.EventDataStream()
    stream.path_spec = path_spec
    mediator.ProduceEventDataStream(stream)
    plugin = sccm.SCCMTextPlugin()
    file_object = file_entry.GetFileObject()
    start = time.perf_counter()
    plugin.Process(mediator, file_object=file_object)
    seconds = time.perf_counter() - start
    count = storage_writer.GetNumberOfAttributeContainers("event_data")
    print(count, seconds)


if __name__ == "__main__":
    main(sys.argv[1])

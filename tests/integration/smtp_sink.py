#!/usr/bin/python3
"""A real SMTP server for the integration tests (Debian's python3-aiosmtpd).

Usage: smtp_sink.py OUTDIR [PORT]. Listens on 127.0.0.1:PORT (0 picks a free port),
prints the port on stdout, and writes each message it accepts to OUTDIR as
NNNNNN.eml (written to a temporary name first, so a reader never sees half a file),
with the envelope recipients on an X-Envelope-To line before the message.
"""
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Maildir:
    def __init__(self, out):
        self.out = out
        self.count = len([n for n in os.listdir(out) if n.endswith(".eml")])

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(self.out, "%06d-%d.eml" % (self.count, os.getpid()))
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        with open(name + ".tmp", "wb") as f:
            f.write(("X-Envelope-To: %s\r\n" % ",".join(envelope.rcpt_tos)).encode("utf-8"))
            f.write(content)
        os.rename(name + ".tmp", name)
        return "250 OK"


async def main():
    out = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    handler = Maildir(out)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, enable_SMTPUTF8=True), "127.0.0.1", port,
                                      reuse_address=True)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())

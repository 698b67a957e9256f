#!/usr/bin/env python3
"""Drive imapd with Python's standard imaplib through IMAP4_stream and print what a
real client sees, as JSON, for the node test to check."""
import imaplib
import json
import sys

command = sys.argv[1]
out = {}
M = imaplib.IMAP4_stream(command)
out['state'] = M.state
out['capabilities'] = list(M.capabilities)
typ, data = M.list()
out['list'] = [d.decode() for d in data]
typ, data = M.select('INBOX')
out['select'] = [typ, data[0].decode()]
typ, data = M.search(None, 'ALL')
out['search_all'] = data[0].decode()
typ, data = M.uid('SEARCH', None, 'FROM', '"Alice"')
out['uid_search_from'] = data[0].decode()
typ, data = M.fetch('1', '(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out['fetch1'] = [(d[0].decode(), d[1].decode()) if isinstance(d, tuple) else d.decode() for d in data]
typ, data = M.fetch('1', '(RFC822)')
out['rfc822_len'] = len(data[0][1])
typ, data = M.store('2', '+FLAGS', '(\\Flagged)')
out['store'] = [typ, data[0].decode()]
msg = b'From: py@example.org\r\nSubject: from imaplib\r\n\r\nhello from python\r\n'
typ, data = M.append('INBOX', '(\\Seen)', imaplib.Time2Internaldate(1700000000), msg)
out['append'] = [typ, data[0].decode()]
typ, data = M.create('INBOX.PyFolder')
out['create'] = typ
typ, data = M.copy('1:2', 'INBOX.PyFolder')
out['copy'] = [typ, data[0].decode()]
typ, data = M.status('INBOX.PyFolder', '(MESSAGES UIDNEXT)')
out['status'] = data[0].decode()
typ, data = M.store('1', '+FLAGS', '(\\Deleted)')
typ, data = M.expunge()
out['expunge'] = [typ, [d.decode() for d in data if d]]
typ, data = M.search('UTF-8', 'SUBJECT', '"from imaplib"')
out['search_subject'] = data[0].decode()
typ, data = M.uid('SORT', '(REVERSE DATE)', 'UTF-8', 'ALL')
out['sort'] = data[0].decode()
typ, data = M.namespace()
out['namespace'] = data[0].decode()
M.close()
typ, data = M.logout()
out['logout'] = typ
print(json.dumps(out))

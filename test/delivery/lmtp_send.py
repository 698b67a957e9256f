"""Talks LMTP with Python's smtplib.LMTP and prints what the server answered, as JSON.

Usage: lmtp_send.py JOB.json, where the job is
  {"host": "127.0.0.1", "port": 24} or {"socket": "/path"},
  "transactions": [{"sender": "a@b", "mail_options": ["SMTPUTF8"], "recipients": ["x@y"],
                    "message_file": "/path/to/message"}]
Output: {"lhlo": [code, text], "features": {...}, "transactions": [{"mail": [code, text],
  "rcpt": [[code, text], ...], "data": [[code, text], ...]}]}
smtplib's sendmail() reads a single reply after DATA; LMTP sends one per accepted recipient
(RFC 2033 4.2), so the transaction is driven command by command here.
"""
import json
import smtplib
import sys


def reply(code_text):
    code, text = code_text
    return [code, text.decode('utf-8', 'replace') if isinstance(text, bytes) else text]


def main():
    job = json.load(open(sys.argv[1]))
    if 'socket' in job:
        lmtp = smtplib.LMTP(job['socket'])
    else:
        lmtp = smtplib.LMTP(job['host'], job['port'])
    out = {'lhlo': reply(lmtp.ehlo('client.test')), 'features': lmtp.esmtp_features, 'transactions': []}
    for t in job['transactions']:
        result = {'rcpt': [], 'data': []}
        options = ''.join(' ' + o for o in t.get('mail_options', []))
        # As sendmail() does: UTF-8 addresses only with SMTPUTF8 (RFC 6531).
        lmtp.command_encoding = 'utf-8' if 'SMTPUTF8' in t.get('mail_options', []) else 'ascii'
        result['mail'] = reply(lmtp.docmd('MAIL FROM:<%s>%s' % (t['sender'], options)))
        accepted = 0
        if result['mail'][0] == 250:
            for r in t['recipients']:
                r_reply = reply(lmtp.docmd('RCPT TO:<%s>' % r))
                result['rcpt'].append(r_reply)
                if r_reply[0] == 250:
                    accepted += 1
        if accepted:
            with open(t['message_file'], 'rb') as f:
                message = f.read()
            # data() dot-stuffs and reads the first reply; the others follow.
            result['data'].append(reply(lmtp.data(message)))
            for _ in range(accepted - 1):
                result['data'].append(reply(lmtp.getreply()))
        else:
            lmtp.rset()
        out['transactions'].append(result)
    lmtp.quit()
    print(json.dumps(out))


main()

# An IMAP client for the appliance's GUI tests, with Python's imaplib: log in, SELECT a
# folder, start IDLE (imaplib has no IDLE helper in 3.11, so the command is sent by hand)
# and print every line the server sends until it closes the connection.
# Usage: imap_idle.py HOST PORT USER PASSWORD [FOLDER]
import imaplib
import sys

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
folder = sys.argv[5] if len(sys.argv) > 5 else 'INBOX'
M = imaplib.IMAP4(host, port)
print('GREETING', M.welcome.decode(errors='replace'), flush=True)
typ, _ = M.login(user, password)
print('LOGIN', typ, flush=True)
typ, data = M.select(folder)
print('SELECT', typ, data[0].decode(), flush=True)
M.send(b'a IDLE\r\n')
print('CONT', M.readline().decode(errors='replace').strip(), flush=True)
while True:
    line = M.readline()
    if not line:
        print('EOF', flush=True)
        break
    print('LINE', line.decode(errors='replace').strip(), flush=True)

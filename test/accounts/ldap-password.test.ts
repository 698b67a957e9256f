// userPassword schemes of an LDAP directory (Courier's authldap LDAP_CRYPTPW): vectors made by
// OpenLDAP's slappasswd (with its argon2 module) and from the SHA-crypt specification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ldapPasswordScheme, verifyLdapPassword } from '../../server/accounts/ldap-password.js';

// slappasswd -s pw (slapd 2.5.13, Debian 12).
const SLAPPASSWD = {
  ssha: '{SSHA}EP4onMpNBQ5sAwoIp5wmpgOEj2Ab9VPX',
  argon2: '{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$VtakeN38YF++4SYGroLySg$VB+magJZsZYqfgeGjIbsY7TB/qpEXoct3H8nr0kgE6o',
  crypt6: '{CRYPT}$6$EuYXpGQdflL7xog9$mi5oYPGJJYC6sCNKG009j0qlqNKiB5wlAqZXuYit3ZQzqzLLWdhgxWf8ZrWVi/isKCQPhvlOUVIl2VSi85Wrk/',
};

test('{SSHA}, {ARGON2} and {CRYPT}$6$ as slappasswd writes them', async () => {
  for (const [scheme, stored] of Object.entries(SLAPPASSWD)) {
    assert.equal(await verifyLdapPassword('pw', stored), true, scheme);
    assert.equal(await verifyLdapPassword('pW', stored), false, scheme);
    assert.equal(await verifyLdapPassword('', stored), false, scheme);
  }
});

test('SHA-256-crypt and SHA-512-crypt: the specification\'s vectors, with rounds', async () => {
  assert.equal(await verifyLdapPassword('Hello world!', '{CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'), true);
  assert.equal(
    await verifyLdapPassword('Hello world!', '{crypt}$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'),
    true,
  );
  // Without {CRYPT}: Courier's authldap takes a value without a scheme as crypt(3).
  assert.equal(await verifyLdapPassword('Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'), true);
  // Rounds beyond the bound are refused before anything runs (a tampered entry must not stall the server).
  const started = Date.now();
  assert.equal(await verifyLdapPassword('x', '{CRYPT}$6$rounds=999999999$salt$' + 'a'.repeat(86)), false);
  assert.ok(Date.now() - started < 500);
});

test('{SHA}, {SSHA256}, {SSHA512} and bcrypt; DES, MD5-crypt, yescrypt and unknown schemes match nothing', async () => {
  const sha = '{SHA}' + createHash('sha1').update('pw').digest('base64');
  assert.equal(await verifyLdapPassword('pw', sha), true);
  const salt = Buffer.from('0123456789abcdef');
  const ssha512 = '{SSHA512}' + Buffer.concat([createHash('sha512').update('pw').update(salt).digest(), salt]).toString('base64');
  assert.equal(await verifyLdapPassword('pw', ssha512), true);
  assert.equal(await verifyLdapPassword('px', ssha512), false);
  const ssha256 = '{SSHA256}' + Buffer.concat([createHash('sha256').update('pw').update(salt).digest(), salt]).toString('base64');
  assert.equal(await verifyLdapPassword('pw', ssha256), true);
  // hash-wasm's bcrypt of "pw" with cost 4.
  assert.equal(await verifyLdapPassword('pw', '{CRYPT}$2a$04$/uaF/uaF/uaF/uaF/uaF/u2N7gzo/QEuw/MVEoYwm3WiVvsKnqQr6'), true);
  assert.equal(await verifyLdapPassword('pv', '{CRYPT}$2a$04$/uaF/uaF/uaF/uaF/uaF/u2N7gzo/QEuw/MVEoYwm3WiVvsKnqQr6'), false);
  for (const refused of ['{CRYPT}abJnggxhB/yWI', '{CRYPT}$1$salt$qJH7.N4xYta3aEG/dfqo/0', '{CRYPT}$y$j9T$salt$hash', '{MD5}X03MO1qnZdYdgyfeuILPmQ==', '{CLEARTEXT}pw', '{ARGON2}garbage']) {
    assert.equal(await verifyLdapPassword('pw', refused), false, refused);
  }
  assert.equal(ldapPasswordScheme('{ssha}x'), 'SSHA');
  assert.equal(ldapPasswordScheme('{MD5}x'), null);
  // Argon2 with a huge memory cost is refused before it allocates.
  assert.equal(await verifyLdapPassword('pw', '{ARGON2}$argon2id$v=19$m=4194304,t=3,p=1$VtakeN38YF++4SYGroLySg$VB+magJZsZYqfgeGjIbsY7TB/qpEXoct3H8nr0kgE6o'), false);
});

import {
  asciiText,
  codeSpan,
  consoleJobUrl,
  defang,
  escapeHtml,
  humanBytes,
  humanDuration,
  inertMarkdown,
  inertText,
  noMentions,
  oneLine,
  resourceName,
  stripControl,
  stripInvisible,
  truncate,
  wellFormed,
} from '../../functions/shared/format';

describe('humanBytes', () => {
  it.each([
    [undefined, undefined],
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [9663676416, '9.0 GiB'],
    [107374182400, '100 GiB'],
    [5 * 1024 ** 4, '5.0 TiB'],
    [3 * 1024 ** 6, '3072 PiB'],
  ])('humanBytes(%p) is %p', (bytes, text) => {
    expect(humanBytes(bytes)).toBe(text);
  });
});

describe('humanDuration', () => {
  it.each([
    [undefined, undefined],
    [-1, undefined],
    [Number.NaN, undefined],
    [0, '0s'],
    [59_400, '59s'],
    [61_000, '1m 1s'],
    [291_009, '4m 51s'],
    [3_600_000, '1h 0m'],
    [(47 * 60 + 59) * 60_000, '47h 59m'],
    [49 * 3_600_000, '2d 1h'],
  ])('humanDuration(%p) is %p', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('consoleJobUrl', () => {
  it.each([
    ['backup', 'backup'],
    ['copy', 'copy'],
    ['restore', 'restore'],
  ] as const)('links a %s job to its details page', (jobType, path) => {
    expect(consoleJobUrl(jobType, 'eu-west-1', 'ABC-123')).toBe(
      `https://eu-west-1.console.aws.amazon.com/backup/home?region=eu-west-1#/jobs/${path}/details/ABC-123`,
    );
  });

  it('links to the job list when there is no job id', () => {
    expect(consoleJobUrl('copy', 'us-east-1')).toBe(
      'https://us-east-1.console.aws.amazon.com/backup/home?region=us-east-1#/jobs/copy',
    );
  });

  it('encodes a job id that could break out of the URL', () => {
    const url = consoleJobUrl('backup', 'us-east-1', 'x"><script>/../');
    expect(url).not.toMatch(/["<>]/);
    expect(url.endsWith('/details/x%22%3E%3Cscript%3E%2F..%2F')).toBe(true);
  });
});

describe('resourceName', () => {
  it.each([
    ['arn:aws:ec2:us-east-1:111122223333:instance/i-0abc', 'i-0abc'],
    ['arn:aws:rds:eu-west-1:444455556666:db:orders', 'orders'],
    ['arn:aws:rds:eu-west-1:444455556666:cluster:ledger-aurora', 'ledger-aurora'],
    ['arn:aws:dynamodb:us-east-1:111122223333:table/customer-profiles', 'customer-profiles'],
    ['arn:aws:s3:::acme-invoices-777788889999', 'acme-invoices-777788889999'],
    ['arn:aws:elasticfilesystem:eu-west-1:444455556666:file-system/fs-1/', 'fs-1'],
    [undefined, undefined],
    ['', undefined],
  ])('resourceName(%p) is %p', (arn, name) => {
    expect(resourceName(arn)).toBe(name);
  });
});

/** A UTF-16 surrogate without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Zero-width, bidirectional, filler and tag characters: what a reader cannot see. */
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u061C\uFEFF]|\uDB40[\uDC00-\uDC7F]/u;

describe('wellFormed', () => {
  it.each([
    ['a lone high surrogate', 'a\uD800b', 'a\uFFFDb'],
    ['a lone low surrogate', 'a\uDC00b', 'a\uFFFDb'],
    ['a reversed pair', '\uDC00\uD800', '\uFFFD\uFFFD'],
    ['a high surrogate at the end', 'ab\uD83D', 'ab\uFFFD'],
  ])('replaces %s with U+FFFD', (_what, input, expected) => {
    expect(wellFormed(input)).toBe(expected);
    expect(wellFormed(input)).not.toMatch(LONE_SURROGATE);
  });

  it('keeps valid pairs and plain text as they are', () => {
    expect(wellFormed('ok 😀 ünïcode')).toBe('ok 😀 ünïcode');
  });
});

describe('stripInvisible', () => {
  it.each([
    ['zero-width space', '\u200B'],
    ['zero-width joiner', '\u200D'],
    ['Arabic letter mark', '\u061C'],
    ['right-to-left override', '\u202E'],
    ['word joiner', '\u2060'],
    ['byte order mark', '\uFEFF'],
    ['variation selector', '\uFE0F'],
    ['soft hyphen', '\u00AD'],
    ['tag character LATIN CAPITAL A (U+E0041)', '\u{E0041}'],
    ['cancel tag (U+E007F)', '\u{E007F}'],
  ])('removes the %s', (_what, ch) => {
    expect(stripInvisible(`pro${ch}d`)).toBe('prod');
  });

  it('leaves visible text alone', () => {
    expect(stripInvisible('Zürich · 東京 😀')).toBe('Zürich · 東京 😀');
  });
});

describe('sanitisers', () => {
  it('stripControl replaces C0, C1 and Unicode line controls and drops bidi controls', () => {
    expect(stripControl('a\r\nb\tc\u001bd\u0085e\u2028f\u202eg\u0000h')).toBe('a  b c d e fg h');
    expect(stripControl('ok · ünïcode')).toBe('ok · ünïcode');
  });

  it('stripControl makes lone surrogates well-formed', () => {
    expect(stripControl('a\uD800b')).toBe('a\uFFFDb');
  });

  it('oneLine collapses whitespace and trims', () => {
    expect(oneLine('  Backup\r\nBcc: x@y\t\tz  ')).toBe('Backup Bcc: x@y z');
    expect(oneLine('a\u200B\u202E b\uDC00')).toBe('a b\uFFFD');
  });

  it('truncate counts code points and ends with the ellipsis', () => {
    expect(truncate('abcdef', 6)).toBe('abcdef');
    expect(truncate('abcdefg', 6)).toBe('abcde…');
    expect(truncate('abcdefg', 6, '...')).toBe('abc...');
    const emoji = '😀'.repeat(10);
    const cut = truncate(emoji, 5);
    expect(Array.from(cut)).toHaveLength(5);
    expect(cut).not.toMatch(LONE_SURROGATE);
  });

  it('escapeHtml escapes the five HTML metacharacters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});

describe('defang', () => {
  it.each([
    ['https://evil.example/phish?x=1', 'hxxps://evil[.]example/phish?x=1'],
    ['see http://a.b.c/x', 'see hxxp://a[.]b[.]c/x'],
    ['HTTPS://Evil.Example', 'hxxps://Evil[.]Example'],
    ['ftp://files.example/x', 'ftp-x://files[.]example/x'],
    ['www.evil.example', 'www[.]evil[.]example'],
    ['visit evil.com now', 'visit evil[.]com now'],
    ['mail a@evil.com', 'mail a@evil[.]com'],
    ['sub.domain.evil.io', 'sub[.]domain[.]evil[.]io'],
    // A link glued onto another (found by npm run chaos): each scheme and host is defanged.
    ['(https://a.b)(https://evil.example/login)', '(hxxps://a[.]b)(hxxps://evil[.]example/login)'],
    [
      '[click](https://evil.com)-https://evil.comEC2',
      '[click](hxxps://evil[.]com)-hxxps://evil[.]comEC2',
    ],
    ['https://a.b,https://c.d', 'hxxps://a[.]b,hxxps://c[.]d'],
    ['hxxps://evil[.]example/x', 'hxxps://evil[.]example/x'],
    ['snap-0589HTTPS://EVIL.COM/a', 'snap-0589https-x://EVIL[.]COM/a'],
    // Any top-level domain, not a list of the usual ones; the whole host, not up to a ".com".
    ['go to evil.shop/login now', 'go to evil[.]shop/login now'],
    ['visit evil.pw', 'visit evil[.]pw'],
    ['login.microsoftonline.com.evil.store', 'login[.]microsoftonline[.]com[.]evil[.]store'],
  ])('makes %p unclickable', (input, expected) => {
    expect(defang(input)).toBe(expected);
  });

  it('keeps service principals, versions and ids as they are', () => {
    const text = 'trusts backup.amazonaws.com; version 1.2.3; i-0abc; arn:aws:s3:::bucket';
    expect(defang(text)).toBe(text);
  });
});

describe('inertText', () => {
  it('is one well-formed line without links or invisible characters', () => {
    const out = inertText(
      'Prod\u200B https://evil.example\r\n\u202E<!channel> @here\u{E0041}\u061C x\uD800',
    );
    expect(out).toBe('Prod hxxps://evil[.]example <!channel> @here x\uFFFD');
    expect(out).not.toMatch(INVISIBLE);
    expect(out).not.toMatch(LONE_SURROGATE);
  });
});

describe('noMentions', () => {
  it('replaces @ with ＠, < > with ‹ ›, backticks with quotes, and adds nothing invisible', () => {
    const out = noMentions('db `x` @here <!channel> <@U1>\r\nBcc: a@b');
    expect(out).toBe("db 'x' ＠here ‹!channel› ‹＠U1› Bcc: a＠b");
    expect(out).not.toMatch(INVISIBLE);
  });

  it('defangs links and drops invisible characters too', () => {
    expect(noMentions('@\u200Bhere https://evil.example')).toBe('＠here hxxps://evil[.]example');
  });
});

describe('inertMarkdown', () => {
  it('defuses mentions, code spans, links and emphasis without zero-width characters', () => {
    const out = inertMarkdown(
      '@here <!channel> <@U012AB3CD> `x` [a](https://e.example) *b* _c_ ~d~ |e|\nf',
    );
    expect(out).not.toMatch(/@here|<!channel>|<@U|`|\[a\]\(|\*b\*|_c_|~d~|\|e\||\n|https:/);
    expect(out).toContain('＠here');
    expect(out).not.toMatch(INVISIBLE);
  });

  it.each(['EMAIL_ALREADY_EXISTS', 'my_table', 'arn:aws:dynamodb:us-east-1:1:table/my_table'])(
    'shows the identifier %s as a code span, copy-pasteable',
    (word) => {
      expect(inertMarkdown(`failed: ${word} again`)).toBe(`failed: \`${word}\` again`);
    },
  );

  it('does not turn plain words or leading underscores into code', () => {
    expect(inertMarkdown('Access denied _x')).toBe('Access denied ＿x');
  });

  it('keeps backticks balanced, whatever the text holds', () => {
    const out = inertMarkdown('`open CODE_SPAN `x` y_z`');
    expect((out.match(/`/g) ?? []).length % 2).toBe(0);
  });
});

describe('codeSpan', () => {
  it('wraps in exactly one pair of backticks with nothing inside that pings or closes it', () => {
    const out = codeSpan('a`b`<@U1>\nc @here');
    expect(out.match(/`/g)).toHaveLength(2);
    expect(out.startsWith('`') && out.endsWith('`')).toBe(true);
    expect(out).not.toMatch(/<@|\n|@here/);
  });

  it('keeps an ARN exactly as it is', () => {
    const arn = 'arn:aws:s3:::assets.example.com';
    expect(codeSpan(arn)).toBe('`' + arn + '`');
  });
});

describe('asciiText', () => {
  it.each([
    ['Zürich', 'Zurich'],
    ['Café Crème', 'Cafe Creme'],
    ['São Paulo – ñ', 'Sao Paulo ? n'],
    ['東京', '??'],
    ['ops@example.com', 'ops(at)example[.]com'],
    ['<!channel>', '(!channel)'],
    ['x\r\ny\u200B', 'x y'],
  ])('turns %p into printable ASCII %p', (input, expected) => {
    expect(asciiText(input)).toBe(expected);
    expect(asciiText(input)).toMatch(/^[\x20-\x7e]*$/);
  });

  // NFKD could otherwise turn full-width look-alikes back into live ASCII after defanging.
  it('does not turn full-width look-alikes back into a live link or mention', () => {
    const out = asciiText('ｈｔｔｐｓ：／／evil．com ＜!channel＞ ｀x｀');
    expect(out).not.toContain('https://');
    expect(out).not.toContain('evil.com');
    expect(out).not.toContain('<!channel>');
    expect(out).not.toContain('`');
  });
});

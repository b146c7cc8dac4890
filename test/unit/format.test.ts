import {
  codeSpan,
  consoleJobUrl,
  escapeHtml,
  humanBytes,
  humanDuration,
  inertMarkdown,
  noMentions,
  oneLine,
  resourceName,
  stripControl,
  truncate,
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

describe('sanitisers', () => {
  it('stripControl replaces C0, C1 and Unicode line/bidi controls', () => {
    expect(stripControl('a\r\nb\tc\u001bd\u0085e\u2028f\u202eg\u0000h')).toBe('a  b c d e f g h');
    expect(stripControl('ok · ünïcode')).toBe('ok · ünïcode');
  });

  it('oneLine collapses whitespace and trims', () => {
    expect(oneLine('  Backup\r\nBcc: x@y\t\tz  ')).toBe('Backup Bcc: x@y z');
  });

  it('truncate counts code points and ends with the ellipsis', () => {
    expect(truncate('abcdef', 6)).toBe('abcdef');
    expect(truncate('abcdefg', 6)).toBe('abcde…');
    expect(truncate('abcdefg', 6, '...')).toBe('abc...');
    const emoji = '😀'.repeat(10);
    const cut = truncate(emoji, 5);
    expect(Array.from(cut)).toHaveLength(5);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no lone surrogate
  });

  it('escapeHtml escapes the five HTML metacharacters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('inertMarkdown defuses mentions, code spans, links and emphasis', () => {
    const out = inertMarkdown(
      '@here <!channel> <@U012AB3CD> `x` [a](https://e.example) *b* _c_\nd',
    );
    expect(out).not.toMatch(/@here|<!channel>|<@U|`|\[a\]\(|\*b\*|_c_|\n/);
    expect(out).toContain('@\u200bhere');
  });

  it('noMentions defuses mentions and code spans in plain text', () => {
    const out = noMentions('db `x` @here <!channel> <@U1>\r\nBcc: a@b');
    expect(out).toBe("db 'x' @\u200bhere ‹!channel› ‹@\u200bU1› Bcc: a@\u200bb");
  });

  it('codeSpan wraps in exactly one pair of backticks', () => {
    const out = codeSpan('a`b`<@U1>\nc');
    expect(out.match(/`/g)).toHaveLength(2);
    expect(out.startsWith('`') && out.endsWith('`')).toBe(true);
    expect(out).not.toMatch(/<@|\n/);
  });
});

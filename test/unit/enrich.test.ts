import { CachedAccountDirectory, enrich } from '../../functions/notify-backup-event/enrich';
import { FakeAccountDirectory, FakeClock, jobEvent } from '../helpers/fakes';

describe('enrich', () => {
  it('adds the account name, console link, size and duration', async () => {
    const event = jobEvent('backup/backup-job-state-change.completed');
    const accounts = new FakeAccountDirectory({
      '111122223333': { name: 'Production', email: 'aws-prod@example.com' },
    });
    const enriched = await enrich(event, { accounts });
    expect(enriched).toMatchObject({
      ...event,
      accountName: 'Production',
      accountEmail: 'aws-prod@example.com',
      resourceName: 'vol-7c263e8d0ffaac28b',
      consoleUrl:
        'https://us-east-1.console.aws.amazon.com/backup/home?region=us-east-1#/jobs/backup/details/481079DE-8461-4EFF-9CBD-79D1F44E4643',
      sizeText: '100 GiB',
      durationText: '37m 50s',
    });
    expect(accounts.calls).toEqual(['111122223333']);
  });

  it('keeps a resource name the event carries', async () => {
    const event = jobEvent('backup/backup-job-state-change.failed', (raw) => {
      raw.detail.resourceName = 'Customer profiles';
    });
    expect((await enrich(event)).resourceName).toBe('Customer profiles');
  });

  it('leaves out what it cannot compute instead of setting undefined', async () => {
    const enriched = await enrich(jobEvent('backup/copy-job-state-change.created'));
    expect(enriched).not.toHaveProperty('sizeText');
    expect(enriched).not.toHaveProperty('durationText');
    expect(enriched).not.toHaveProperty('accountName');
    expect(Object.values(enriched)).not.toContain(undefined);
    expect(enriched.consoleUrl).toBe(
      'https://us-east-1.console.aws.amazon.com/backup/home?region=us-east-1#/jobs/copy',
    );
  });

  it('sends with the account id alone when the lookup fails, and warns', async () => {
    const event = jobEvent('backup/backup-job-state-change.failed');
    const accounts = new FakeAccountDirectory();
    accounts.failWith = Object.assign(new Error('Rate exceeded'), {
      name: 'TooManyRequestsException',
    });
    const warn = jest.fn();
    const enriched = await enrich(event, { accounts, warn });
    expect(enriched.accountId).toBe('111122223333');
    expect(enriched).not.toHaveProperty('accountName');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('account lookup failed'), {
      accountId: '111122223333',
      error: 'Rate exceeded',
    });
  });

  it('does not need a warn callback to survive a failed lookup', async () => {
    const accounts = new FakeAccountDirectory();
    accounts.failWith = new Error('boom');
    await expect(
      enrich(jobEvent('backup/backup-job-state-change.failed'), { accounts }),
    ).resolves.toMatchObject({
      accountId: '111122223333',
    });
  });
});

describe('CachedAccountDirectory', () => {
  const TTL = 60_000;

  function setup() {
    const inner = new FakeAccountDirectory({ '111122223333': { name: 'Production' } });
    const clock = new FakeClock();
    return { inner, clock, cached: new CachedAccountDirectory(inner, TTL, clock) };
  }

  it('answers from the cache within the TTL', async () => {
    const { inner, clock, cached } = setup();
    await expect(cached.describeAccount('111122223333')).resolves.toEqual({
      id: '111122223333',
      name: 'Production',
    });
    clock.advance(TTL - 1);
    await expect(cached.describeAccount('111122223333')).resolves.toMatchObject({
      name: 'Production',
    });
    expect(inner.calls).toEqual(['111122223333']);
  });

  it('fetches again once the TTL has passed', async () => {
    const { inner, clock, cached } = setup();
    await cached.describeAccount('111122223333');
    clock.advance(TTL);
    await cached.describeAccount('111122223333');
    expect(inner.calls).toEqual(['111122223333', '111122223333']);
  });

  it('caches per account', async () => {
    const { inner, cached } = setup();
    await cached.describeAccount('111122223333');
    await expect(cached.describeAccount('444455556666')).rejects.toThrow(/not found/);
    expect(inner.calls).toEqual(['111122223333', '444455556666']);
  });

  it('does not cache failures', async () => {
    const { inner, cached } = setup();
    inner.failWith = new Error('throttled');
    await expect(cached.describeAccount('111122223333')).rejects.toThrow('throttled');
    inner.failWith = undefined;
    await expect(cached.describeAccount('111122223333')).resolves.toMatchObject({
      name: 'Production',
    });
    expect(inner.calls).toHaveLength(2);
  });
});

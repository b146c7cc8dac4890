import type { Profile } from '../../functions/shared/config/schema';
import { ConfigError } from '../../functions/shared/errors';
import {
  chooseProfile,
  describeProfileMatch,
  NoMatchingProfileError,
  ouPathMatches,
} from '../../functions/shared/profiles';
import { exampleConfig } from '../helpers/fixtures';

const PROFILE_TAG = 'backup-control-plane:profile';

function profile(name: string, match: Profile['match'] = {}): Profile {
  return { name, match, regions: ['us-east-1'], backupPolicies: [], baseline: {} };
}

/** Production by OU, PCI by tag, sandboxes by OU and tag, then a catch-all. */
function profiles(): Profile[] {
  return [
    profile('production', { ouPath: ['Workloads/Production', 'Workloads/Production/**'] }),
    profile('pci', { tags: { compliance: 'pci', 'data-class': 'restricted' } }),
    profile('sandbox', { ouPath: ['Sandbox*/*'], tags: { owner: 'lab' } }),
    profile('default'),
  ];
}

describe('ouPathMatches', () => {
  it.each([
    ['Workloads/Production', 'Workloads/Production', true],
    ['Workloads/Production', 'Workloads/production', false],
    ['Workloads/Production', 'Workloads/Production/Payments', false],
    ['Workloads/*', 'Workloads/Production', true],
    ['Workloads/*', 'Workloads', false],
    ['Workloads/*', 'Workloads/Production/Payments', false],
    ['Workloads/**', 'Workloads/Production/Payments', true],
    ['Workloads/**', 'Workloads', true],
    ['Workloads/**', 'Infrastructure/Workloads', false],
    ['**/Production', 'Workloads/Production', true],
    ['**/Production', 'Production', true],
    ['**/Production', 'Workloads/Production/Payments', false],
    ['*/Production/**', 'Workloads/Production/Payments/EU', true],
    ['Workloads/Prod*', 'Workloads/Production', true],
    ['Workloads/Prod*', 'Workloads/Staging', false],
    ['/Workloads/Production/', 'Workloads/Production', true],
    ['**', '', true],
    ['*', '', false],
  ])('%s against "%s" → %s', (pattern, path, expected) => {
    expect(ouPathMatches(pattern, path)).toBe(expected);
  });
});

describe('chooseProfile', () => {
  it('matches an OU path pattern, saying which one', () => {
    expect(chooseProfile(profiles(), { ouPath: 'Workloads/Production/Payments' })).toEqual({
      profile: expect.objectContaining({ name: 'production' }),
      reason: 'OU path "Workloads/Production/Payments" matches "Workloads/Production/**"',
    });
  });

  it('needs every tag of a profile, with equal values', () => {
    const tags = { compliance: 'pci', 'data-class': 'restricted', team: 'payments' };
    expect(chooseProfile(profiles(), { ouPath: 'Other', tags })).toMatchObject({
      profile: { name: 'pci' },
      reason: 'tags compliance=pci, data-class=restricted',
    });
    const partial = { compliance: 'pci' };
    expect(chooseProfile(profiles(), { ouPath: 'Other', tags: partial }).profile.name).toBe(
      'default',
    );
    const differs = { compliance: 'PCI', 'data-class': 'restricted' };
    expect(chooseProfile(profiles(), { ouPath: 'Other', tags: differs }).profile.name).toBe(
      'default',
    );
  });

  it('needs both the OU path and the tags when a profile gives both', () => {
    const facts = { ouPath: 'Sandboxes/alice', tags: { owner: 'lab' } };
    expect(chooseProfile(profiles(), facts)).toMatchObject({
      profile: { name: 'sandbox' },
      reason: 'OU path "Sandboxes/alice" matches "Sandbox*/*" and tags owner=lab',
    });
    expect(chooseProfile(profiles(), { ...facts, tags: {} }).profile.name).toBe('default');
    expect(chooseProfile(profiles(), { ...facts, ouPath: 'Sandboxes' }).profile.name).toBe(
      'default',
    );
  });

  it('takes the first profile that matches', () => {
    const list = [profile('first', { ouPath: ['Workloads/**'] }), ...profiles()];
    expect(chooseProfile(list, { ouPath: 'Workloads/Production' }).profile.name).toBe('first');
  });

  it('lets the profile tag name a profile outright, over OU and tag matches', () => {
    const choice = chooseProfile(profiles(), {
      ouPath: 'Workloads/Production',
      tags: { [PROFILE_TAG]: 'sandbox' },
      profileTag: PROFILE_TAG,
    });
    expect(choice).toMatchObject({
      profile: { name: 'sandbox' },
      reason: 'tag backup-control-plane:profile=sandbox',
    });
  });

  it('ignores that tag when no profileTag is configured', () => {
    const facts = { ouPath: 'Workloads/Production', tags: { [PROFILE_TAG]: 'sandbox' } };
    expect(chooseProfile(profiles(), facts).profile.name).toBe('production');
  });

  it('refuses a profile tag naming no profile', () => {
    const facts = { tags: { [PROFILE_TAG]: 'gold' }, profileTag: PROFILE_TAG };
    expect(() => chooseProfile(profiles(), facts)).toThrow(NoMatchingProfileError);
    expect(() => chooseProfile(profiles(), facts)).toThrow(
      'tag backup-control-plane:profile=gold names no profile (profiles: production, pci, sandbox, default)',
    );
  });

  it('skips OU path profiles when the OU path is unknown', () => {
    expect(chooseProfile(profiles(), {})).toMatchObject({
      profile: { name: 'default' },
      reason: 'no match conditions (catch-all)',
    });
  });

  it('fails, as a configuration error, when nothing matches', () => {
    const noCatchAll = profiles().slice(0, 3);
    const facts = { ouPath: 'Security', tags: { team: 'sec' } };
    expect(() => chooseProfile(noCatchAll, facts)).toThrow(ConfigError);
    expect(() => chooseProfile(noCatchAll, facts)).toThrow(
      'no profile matches the account (OU path "Security", tags {"team":"sec"}); profiles tried in order: production, pci, sandbox.',
    );
  });

  it('chooses as the example configuration intends', () => {
    const { profiles: configured } = exampleConfig().onboarding!;
    expect(chooseProfile(configured, { ouPath: 'Workloads/Production' }).profile.name).toBe(
      'production',
    );
    expect(chooseProfile(configured, { ouPath: 'Workloads/Development' }).profile.name).toBe(
      'default',
    );
  });
});

describe('describeProfileMatch', () => {
  it.each([
    [profiles()[0]!, 'accounts in OU Workloads/Production or Workloads/Production/**'],
    [profiles()[1]!, 'accounts tagged compliance=pci, data-class=restricted'],
    [profiles()[2]!, 'accounts in OU Sandbox*/*, tagged owner=lab'],
    [profiles()[3]!, 'every account (no match conditions)'],
  ])('%#: %s', (p, expected) => {
    expect(describeProfileMatch(p)).toBe(expected);
  });
});

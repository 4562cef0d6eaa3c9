import { SessionStatus, sessionLabel } from '../statusitem';

describe('sessionLabel', () => {
  it('names the team and the environment profile', () => {
    expect(sessionLabel({ team: 'data-science', environment: 'data-science/pandas-lab' })).toBe(
      'data-science · pandas-lab'
    );
    expect(sessionLabel({ team: 'data-science', environment: 'base' })).toBe('data-science · base');
  });

  it('names the team alone in the hub environment, and nothing without a team', () => {
    expect(sessionLabel({ team: 'ml-platform', environment: null })).toBe('ml-platform');
    expect(sessionLabel({ team: null, environment: null })).toBeNull();
  });
});

describe('SessionStatus', () => {
  it('says what the session runs for and opens the panel on a click', () => {
    let clicked = 0;
    const item = new SessionStatus(
      { team: 'data-science', environment: 'data-science/pandas-lab' },
      () => {
        clicked += 1;
      }
    );
    expect(item.node.textContent).toBe('Submarine: data-science · pandas-lab');
    expect(item.node.title).toContain('team data-science in environment data-science/pandas-lab');
    item.node.click();
    expect(clicked).toBe(1);
  });
});

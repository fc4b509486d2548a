import { describe, expect, it } from 'vitest';
import { get } from 'svelte/store';
import { matchRoute, navigate, route, setQuery, startRouter } from './router.ts';

describe('router', () => {
  it('maps every view path, with decoded parameters and the query string', () => {
    expect(matchRoute('/').name).toBe('overview');
    expect(matchRoute('/sessions', '?stuck=true&state=').query.get('stuck')).toBe('true');
    expect(matchRoute('/sessions/sess%2F1')).toMatchObject({ name: 'session', params: { id: 'sess/1' } });
    expect(matchRoute('/codes/AGT-PROVIDER-BILLING')).toMatchObject({ name: 'code', params: { code: 'AGT-PROVIDER-BILLING' } });
    expect(matchRoute('/errors/').name).toBe('errors');
    expect(matchRoute('/timeouts').name).toBe('timeouts');
    expect(matchRoute('/scenarios').name).toBe('scenarios');
    expect(matchRoute('/nope').name).toBe('not-found');
  });

  it('keeps filters in the URL and drops empty ones', () => {
    navigate('/sessions?state=error');
    setQuery({ stuck: 'true', q: '' });
    expect(location.pathname + location.search).toBe('/sessions?state=error&stuck=true');
    setQuery({ state: null });
    expect(location.search).toBe('?stuck=true');
    expect(get(route).query.get('stuck')).toBe('true');
  });

  it('turns clicks on in-app links into history navigation, but leaves the API alone', () => {
    const stop = startRouter();
    document.body.innerHTML = '<a id="in" href="/codes">codes</a><a id="api" href="/api/sessions">json</a>';
    const before = history.length;
    document.getElementById('in')!.click();
    expect(location.pathname).toBe('/codes');
    expect(get(route).name).toBe('codes');
    expect(history.length).toBe(before + 1);

    document.body.insertAdjacentHTML('beforeend', '<a id="skip" href="#main">skip</a>');
    const skip = new MouseEvent('click', { bubbles: true, cancelable: true });
    document.getElementById('skip')!.dispatchEvent(skip);
    expect(skip.defaultPrevented).toBe(false);

    let routerPrevented: boolean | null = null;
    const observe = (e: Event) => {
      routerPrevented = e.defaultPrevented;
      e.preventDefault(); // jsdom cannot really navigate
    };
    window.addEventListener('click', observe);
    document.getElementById('api')!.click();
    expect(routerPrevented).toBe(false);
    expect(location.pathname).toBe('/codes');
    window.removeEventListener('click', observe);
    stop();
  });
});

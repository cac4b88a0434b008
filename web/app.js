// dxhub web app: demo sign-in (embedded mode), the signed-in user, a citizen's access log and a
// professional's look-up of a patient's results. Texts in Danish and English.
const TEXT = {
  da: {
    tagline: 'Diagnostisk datahub',
    signOut: 'Log ud',
    signInTitle: 'Log ind',
    signInHelp: 'Demo: vælg en bruger. Hver rolle ser det, dens rettigheder tillader.',
    noDemo: 'Log ind via regionens login (demo-login er kun slået til i demo-tilstand).',
    signedInAs: 'Logget ind som',
    whoLooked: 'Hvem har set mine data',
    when: 'Hvornår',
    who: 'Hvem',
    org: 'Enhed',
    what: 'Hvad',
    override: 'Værdispring',
    lookup: 'Slå patient op',
    patientId: 'Patient-id',
    reason: 'Værdispring, begrundelse (kun ved behov)',
    show: 'Vis svar',
    test: 'Analyse',
    value: 'Resultat',
    name: 'Navn',
    role: 'Rolle',
    unit: 'Organisation',
    yes: 'ja',
    none: 'Ingen opslag endnu.',
    noResults: 'Ingen svar.',
    language: 'English',
  },
  en: {
    tagline: 'Diagnostic data hub',
    signOut: 'Sign out',
    signInTitle: 'Sign in',
    signInHelp: 'Demo: pick a user. Each role sees what its rights allow.',
    noDemo: "Sign in through the region's login (demo sign-in is on in demo mode only).",
    signedInAs: 'Signed in as',
    whoLooked: 'Who looked at my data',
    when: 'When',
    who: 'Who',
    org: 'Unit',
    what: 'What',
    override: 'Override',
    lookup: 'Look up a patient',
    patientId: 'Patient id',
    reason: 'Værdispring (override) reason, only when needed',
    show: 'Show results',
    test: 'Test',
    value: 'Result',
    name: 'Name',
    role: 'Role',
    unit: 'Organisation',
    yes: 'yes',
    none: 'No look-ups yet.',
    noResults: 'No results.',
    language: 'Dansk',
  },
};
let lang = sessionStorage.getItem('lang') ?? (navigator.language?.startsWith('da') ? 'da' : 'en');
const t = (k) => TEXT[lang][k] ?? k;
const $ = (sel) => document.querySelector(sel);

function render() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  $('#lang').textContent = t('language');
}

async function api(path, init = {}) {
  const token = sessionStorage.getItem('token');
  const res = await fetch(path, {
    ...init,
    headers: {
      accept: 'application/fhir+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...init.headers,
    },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.issue?.[0]?.diagnostics ?? `${res.status}`);
  return body;
}

async function showSignIn() {
  $('#signin').hidden = false;
  $('#session').hidden = true;
  $('#signout').hidden = true;
  const list = $('#users');
  list.replaceChildren();
  let users;
  try {
    users = await api('/auth/demo-users');
  } catch {
    $('#no-demo').hidden = false;
    $('#signin-help').hidden = true;
    return;
  }
  for (const u of users) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.user = u.id;
    b.textContent = u.name;
    const small = document.createElement('small');
    small.textContent = `${u.role}${u.org ? ` · ${u.org}` : ''}`;
    b.append(small);
    b.addEventListener('click', () => signIn(u));
    li.append(b);
    list.append(li);
  }
}

async function signIn(user) {
  const res = await fetch('/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: user.id }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error_description);
  sessionStorage.setItem('token', body.access_token);
  sessionStorage.setItem('user', JSON.stringify(user));
  await showSession();
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c ?? '';
    tr.append(td);
  }
  return tr;
}

async function showSession() {
  const user = JSON.parse(sessionStorage.getItem('user') ?? 'null');
  if (!user) return showSignIn();
  $('#signin').hidden = true;
  $('#session').hidden = false;
  $('#signout').hidden = false;
  const dl = $('#whoami');
  dl.replaceChildren();
  for (const [k, v] of [
    ['name', user.name],
    ['role', user.role],
    ['unit', user.org ?? '—'],
  ]) {
    const dt = document.createElement('dt');
    dt.textContent = t(k);
    const dd = document.createElement('dd');
    dd.textContent = v;
    dd.id = `whoami-${k}`;
    dl.append(dt, dd);
  }
  const citizen = user.role === 'citizen';
  $('#citizen').hidden = !citizen;
  $('#professional').hidden = citizen;
  if (citizen) await showLog();
}

async function showLog() {
  const body = $('#log tbody');
  body.replaceChildren();
  try {
    const bundle = await api('/fhir/AuditEvent?_count=50');
    const rows = (bundle.entry ?? []).map((e) => e.resource);
    if (rows.length === 0) body.append(row([t('none')]));
    for (const ev of rows) {
      const user = ev.agent?.find((a) => a.requestor);
      const org = ev.agent?.find((a) => a.who?.identifier?.system === 'urn:oid:1.2.208.176.1.1');
      const what = ev.entity?.find((x) => x.role?.code === '4')?.what?.reference ?? ev.subtype?.[0]?.code;
      const override = ev.subtype?.[0]?.code === '110127' || JSON.stringify(ev.purposeOfEvent ?? []).includes('ETREAT');
      body.append(
        row([
          new Date(ev.recorded).toLocaleString(lang === 'da' ? 'da-DK' : 'en-GB'),
          user?.who?.reference ?? user?.who?.identifier?.value,
          org?.who?.identifier?.value,
          what,
          override ? t('yes') : '',
        ]),
      );
    }
  } catch (err) {
    body.append(row([String(err.message)]));
  }
}

async function lookup(event) {
  event.preventDefault();
  const patient = $('#patient').value.trim();
  const reason = $('#reason').value.trim();
  const body = $('#results tbody');
  body.replaceChildren();
  $('#lookup-error').textContent = '';
  try {
    const headers = reason ? { 'x-vaerdispring': `vital-interest; ${encodeURIComponent(reason)}` } : {};
    const bundle = await api(`/fhir/Observation?subject=Patient/${encodeURIComponent(patient)}&_sort=-date&_count=50`, {
      headers,
    });
    const results = (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource);
    const withheld = (bundle.entry ?? []).find((e) => e.search?.mode === 'outcome');
    if (withheld) $('#lookup-error').textContent = withheld.resource.issue.map((i) => i.diagnostics).join(' ');
    if (results.length === 0) body.append(row([t('noResults')]));
    for (const o of results) {
      const q = o.valueQuantity;
      body.append(
        row([
          o.code?.text ?? o.code?.coding?.[0]?.display ?? o.code?.coding?.[0]?.code,
          q ? `${q.value} ${q.unit ?? q.code ?? ''}` : (o.valueString ?? o.valueCodeableConcept?.text ?? ''),
          o.effectiveDateTime ?? o.issued ?? '',
        ]),
      );
    }
  } catch (err) {
    $('#lookup-error').textContent = err.message;
  }
}

$('#lang').addEventListener('click', () => {
  lang = lang === 'da' ? 'en' : 'da';
  sessionStorage.setItem('lang', lang);
  render();
  void showSession();
});
$('#signout').addEventListener('click', () => {
  sessionStorage.removeItem('token');
  sessionStorage.removeItem('user');
  void showSignIn();
});
$('#lookup').addEventListener('submit', lookup);
render();
void showSession();

/**
 * The synthetic demo region, shaped like Region Syddanmark from public facts only (ARCHITECTURE
 * "demo region"; research note identity-and-terminology §7): four hospital organisations with the
 * seven clinical biochemistry sites Odense, Svendborg, Kolding, Vejle, Sønderborg, Aabenraa and
 * Esbjerg (roche.dk, Region Syddanmark's total lab automation), radiology, medical and emergency
 * departments, and GP practices. Every code is in the local {@link DEMO_SOR_SYSTEM}: real SOR codes
 * were not verified, so none is used. Names carry "(demo)".
 */

/** A clearly local code system for the demo organisation codes: invented, NOT SOR codes. */
export const DEMO_SOR_SYSTEM = 'http://dxhub.example/CodeSystem/demo-sor';

/** SOR-like levels (research note §5.4) plus the GP practices outside the hospital tree. */
export type DemoOrganisationLevel = 'region' | 'hospital' | 'department' | 'section' | 'practice';

/** One unit of the synthetic organisation tree. */
export interface DemoOrganisation {
  readonly code: string;
  readonly name: string;
  readonly level: DemoOrganisationLevel;
  readonly parent?: string;
  /** What the unit does, for the generators: which orders it places or performs. */
  readonly role?: 'lab' | 'imaging' | 'ward' | 'emergency' | 'gp';
  /** Town of the site (Location.address.city). */
  readonly site?: string;
}

const o = (
  code: string,
  name: string,
  level: DemoOrganisationLevel,
  parent?: string,
  role?: DemoOrganisation['role'],
  site?: string,
): DemoOrganisation => ({
  code,
  name: `${name} (demo)`,
  level,
  ...(parent ? { parent } : {}),
  ...(role ? { role } : {}),
  ...(site ? { site } : {}),
});

const HOSPITAL_UNITS: readonly DemoOrganisation[] = [
  o('demo-rsd', 'Region Syddanmark', 'region'),
  o('demo-ouh', 'Odense Universitetshospital', 'hospital', 'demo-rsd'),
  o('demo-ouh-kba', 'Klinisk Biokemisk Afdeling, OUH', 'department', 'demo-ouh'),
  o('demo-ouh-kba-akut', 'Akutlaboratoriet, OUH', 'section', 'demo-ouh-kba', 'lab', 'Odense'),
  o('demo-ouh-kba-koag', 'Koagulationslaboratoriet, OUH', 'section', 'demo-ouh-kba', 'lab', 'Odense'),
  o('demo-ouh-kba-svb', 'Laboratoriet Svendborg, OUH', 'section', 'demo-ouh-kba', 'lab', 'Svendborg'),
  o('demo-ouh-rad', 'Radiologisk Afdeling, OUH', 'department', 'demo-ouh'),
  o('demo-ouh-rad-ct', 'CT-sektionen, OUH', 'section', 'demo-ouh-rad', 'imaging', 'Odense'),
  o('demo-ouh-rad-rtg', 'Røntgen Svendborg, OUH', 'section', 'demo-ouh-rad', 'imaging', 'Svendborg'),
  o('demo-ouh-med', 'Medicinsk Afdeling, OUH', 'department', 'demo-ouh', 'ward', 'Odense'),
  o('demo-ouh-fam', 'Fælles Akutmodtagelse, OUH', 'department', 'demo-ouh', 'emergency', 'Odense'),
  o('demo-slb', 'Sygehus Lillebælt', 'hospital', 'demo-rsd'),
  o('demo-slb-kba', 'Klinisk Biokemisk Afdeling, Sygehus Lillebælt', 'department', 'demo-slb'),
  o('demo-slb-kba-kol', 'Laboratoriet Kolding, Sygehus Lillebælt', 'section', 'demo-slb-kba', 'lab', 'Kolding'),
  o('demo-slb-kba-vej', 'Laboratoriet Vejle, Sygehus Lillebælt', 'section', 'demo-slb-kba', 'lab', 'Vejle'),
  o('demo-slb-rad', 'Radiologisk Afdeling, Sygehus Lillebælt', 'department', 'demo-slb'),
  o('demo-slb-rad-vej', 'Røntgen og Skanning Vejle, Sygehus Lillebælt', 'section', 'demo-slb-rad', 'imaging', 'Vejle'),
  o('demo-slb-med', 'Medicinsk Afdeling, Sygehus Lillebælt', 'department', 'demo-slb', 'ward', 'Kolding'),
  o('demo-slb-akm', 'Akutafdelingen, Sygehus Lillebælt', 'department', 'demo-slb', 'emergency', 'Kolding'),
  o('demo-sve', 'Sydvestjysk Sygehus Esbjerg', 'hospital', 'demo-rsd'),
  o('demo-sve-kba', 'Klinisk Biokemisk Afdeling, Esbjerg', 'department', 'demo-sve'),
  o('demo-sve-kba-rutine', 'Rutinelaboratoriet, Esbjerg', 'section', 'demo-sve-kba', 'lab', 'Esbjerg'),
  o('demo-sve-rad', 'Radiologisk Afdeling, Esbjerg', 'department', 'demo-sve'),
  o('demo-sve-rad-ct', 'CT og røntgen, Esbjerg', 'section', 'demo-sve-rad', 'imaging', 'Esbjerg'),
  o('demo-sve-med', 'Medicinsk Afdeling, Esbjerg', 'department', 'demo-sve', 'ward', 'Esbjerg'),
  o('demo-sve-akm', 'Akutmodtagelsen, Esbjerg', 'department', 'demo-sve', 'emergency', 'Esbjerg'),
  o('demo-shs', 'Sygehus Sønderjylland', 'hospital', 'demo-rsd'),
  o('demo-shs-kba', 'Klinisk Biokemisk Afdeling, Sygehus Sønderjylland', 'department', 'demo-shs'),
  o('demo-shs-kba-aab', 'Laboratoriet Aabenraa, Sygehus Sønderjylland', 'section', 'demo-shs-kba', 'lab', 'Aabenraa'),
  o(
    'demo-shs-kba-sdb',
    'Laboratoriet Sønderborg, Sygehus Sønderjylland',
    'section',
    'demo-shs-kba',
    'lab',
    'Sønderborg',
  ),
  o('demo-shs-rad', 'Radiologisk Afdeling, Sygehus Sønderjylland', 'department', 'demo-shs'),
  o('demo-shs-rad-aab', 'Røntgen Aabenraa, Sygehus Sønderjylland', 'section', 'demo-shs-rad', 'imaging', 'Aabenraa'),
  o('demo-shs-med', 'Medicinsk Afdeling, Sygehus Sønderjylland', 'department', 'demo-shs', 'ward', 'Aabenraa'),
  o('demo-shs-fam', 'Fælles Akutmodtagelse, Sygehus Sønderjylland', 'department', 'demo-shs', 'emergency', 'Aabenraa'),
  o('demo-rsd-praksis', 'Almen praksis i regionen', 'department', 'demo-rsd'),
];

/** Towns of the GP practices: the municipalities around the hospital sites (public geography). */
const GP_TOWNS = [
  'Odense',
  'Svendborg',
  'Nyborg',
  'Middelfart',
  'Faaborg',
  'Kolding',
  'Vejle',
  'Fredericia',
  'Esbjerg',
  'Varde',
  'Aabenraa',
  'Sønderborg',
  'Haderslev',
  'Tønder',
] as const;

/** Two GP practices per town, e.g. `demo-gp-01` "Lægerne i Odense 1 (demo)". */
const GP_PRACTICES: readonly DemoOrganisation[] = GP_TOWNS.flatMap((town, t) =>
  [1, 2].map((n) =>
    o(
      `demo-gp-${String(t * 2 + n).padStart(2, '0')}`,
      `Lægerne i ${town} ${n}`,
      'practice',
      'demo-rsd-praksis',
      'gp',
      town,
    ),
  ),
);

/** The whole organisation tree: region → hospitals → departments → sections, and GP practices. */
export const REGION_ORGANISATIONS: readonly DemoOrganisation[] = Object.freeze([...HOSPITAL_UNITS, ...GP_PRACTICES]);

/** Units by role (lab and imaging sections, wards, emergency departments, GP practices). */
export function unitsWithRole(role: NonNullable<DemoOrganisation['role']>): readonly DemoOrganisation[] {
  return REGION_ORGANISATIONS.filter((u) => u.role === role);
}

/** The lab section serving a site (the first lab section in the same town), else the first lab. */
export function labSectionFor(site: string | undefined): DemoOrganisation {
  const labs = unitsWithRole('lab');
  return labs.find((l) => l.site === site) ?? nearestLab(site) ?? labs[0]!;
}

/** GP towns without a lab send their samples to the hospital laboratory of their area. */
const LAB_OF_TOWN: Readonly<Record<string, string>> = {
  Nyborg: 'demo-ouh-kba-akut',
  Middelfart: 'demo-slb-kba-kol',
  Faaborg: 'demo-ouh-kba-svb',
  Fredericia: 'demo-slb-kba-kol',
  Varde: 'demo-sve-kba-rutine',
  Haderslev: 'demo-shs-kba-aab',
  Tønder: 'demo-shs-kba-aab',
};

function nearestLab(site: string | undefined): DemoOrganisation | undefined {
  const code = site ? LAB_OF_TOWN[site] : undefined;
  return REGION_ORGANISATIONS.find((u) => u.code === code);
}

/** The imaging section of the hospital a unit belongs to (by hospital code prefix). */
export function imagingSectionFor(unit: DemoOrganisation): DemoOrganisation {
  const hospital = unit.code.split('-').slice(0, 2).join('-');
  const imaging = unitsWithRole('imaging');
  return imaging.find((i) => i.code.startsWith(`${hospital}-`)) ?? imaging[0]!;
}

/**
 * Capacity (results per hour) of the demo region's lab and imaging sections, for the utilisation
 * figures of management information (`OperationsConfig.capacity`; `serve --demo` uses it when no
 * DXHUB_OPERATIONS_CONFIG is given). Invented for the synthetic region, not a real laboratory's
 * figure: a real region configures its own, with its source.
 */
export const DEMO_CAPACITY: readonly { unit: string; resultsPerHour: number; source: string }[] = Object.freeze(
  REGION_ORGANISATIONS.filter((u) => u.role === 'lab' || u.role === 'imaging').map((u) => ({
    unit: u.code,
    resultsPerHour: u.role === 'lab' ? 60 : 6,
    source: 'Synthetic demo region (docs/demo-region.md): an invented capacity, not a real section’s figure',
  })),
);

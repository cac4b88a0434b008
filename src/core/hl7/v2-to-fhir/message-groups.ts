import type { Hl7Message } from '../hl7-message.ts';
import type { Hl7Segment } from '../hl7-segment.ts';

/** A segment with its 1-based occurrence among segments of the same name (for error locations). */
export interface Located {
  readonly segment: Hl7Segment;
  readonly sequence: number;
}

/** One OBX with the NTE segments that follow it. */
export interface ObservationGroup extends Located {
  readonly notes: Located[];
}

/** One SPM with its specimen observations (ORU_R01 SPECIMEN, OML_O21 SPECIMEN groups). */
export interface SpecimenGroup extends Located {
  readonly observations: ObservationGroup[];
}

/** An ORC and/or OBR with what belongs to it: notes, observations and specimens. */
export interface OrderGroup {
  orc?: Located;
  obr?: Located;
  readonly notes: Located[];
  readonly observations: ObservationGroup[];
  readonly specimens: SpecimenGroup[];
}

/** One PID with its visit and orders (ORU_R01 PATIENT_RESULT; OML/ORM PATIENT + ORDER). */
export interface PatientGroup {
  readonly pid?: Located;
  pv1?: Located;
  /** OBX directly under the patient (ORU_R01 PATIENT_OBSERVATION, ADT_A01 OBX). */
  readonly observations: ObservationGroup[];
  readonly notes: Located[];
  readonly orders: OrderGroup[];
}

/**
 * Splits a message into patient and order groups by segment order (HL7 v2.5.1 ch. 4 and 7 message
 * structures): PID opens a patient; ORC opens an order, and an OBR joins the ORC before it unless
 * that order already has one; OBX belongs to the last SPM of the order, else to the order, else to
 * the patient; NTE to the segment it follows. Segments the mapping does not use (TQ1, CTD, DG1,
 * FT1, SAC, IN1 …) are skipped. Orders before any PID get a patient group without PID.
 */
export function groupMessage(message: Hl7Message): PatientGroup[] {
  const patients: PatientGroup[] = [];
  const counts = new Map<string, number>();
  let patient: PatientGroup | undefined;
  let order: OrderGroup | undefined;
  let specimen: SpecimenGroup | undefined;
  let lastNotes: Located[] | undefined;
  const newPatient = (pid?: Located): PatientGroup => {
    const p: PatientGroup = { ...(pid ? { pid } : {}), observations: [], notes: [], orders: [] };
    patients.push(p);
    return p;
  };
  const newOrder = (): OrderGroup => {
    patient ??= newPatient();
    const o: OrderGroup = { notes: [], observations: [], specimens: [] };
    patient.orders.push(o);
    return o;
  };
  for (const segment of message.segments.slice(1)) {
    const sequence = (counts.get(segment.name) ?? 0) + 1;
    counts.set(segment.name, sequence);
    const located = { segment, sequence };
    switch (segment.name) {
      case 'PID':
        patient = newPatient(located);
        order = undefined;
        specimen = undefined;
        lastNotes = patient.notes;
        break;
      case 'PV1':
        patient ??= newPatient();
        patient.pv1 ??= located;
        break;
      case 'ORC':
        order = newOrder();
        order.orc = located;
        specimen = undefined;
        lastNotes = order.notes;
        break;
      case 'OBR':
        if (!order || order.obr) order = newOrder();
        order.obr = located;
        specimen = undefined;
        lastNotes = order.notes;
        break;
      case 'SPM':
        order ??= newOrder();
        specimen = { ...located, observations: [] };
        order.specimens.push(specimen);
        lastNotes = undefined;
        break;
      case 'OBX': {
        const obs: ObservationGroup = { ...located, notes: [] };
        if (specimen) specimen.observations.push(obs);
        else if (order) order.observations.push(obs);
        else {
          patient ??= newPatient();
          patient.observations.push(obs);
        }
        lastNotes = obs.notes;
        break;
      }
      case 'NTE':
        lastNotes?.push(located);
        break;
      default:
        break;
    }
  }
  return patients;
}

import { DEMO_PLACER_NAMESPACE, type DemoOrder, type DemoResource } from '../core/demo/index.ts';

/** An order the channel placed: the placer number (HL7 v2 OBR-2 value and namespace) its results quote. */
export interface PlacedOrder {
  readonly placer: readonly [value: string, namespace: string];
  /** The ServiceRequest id in the hub (the Specimen's request). */
  readonly serviceRequest: string;
}

/**
 * Where the simulator places orders: the requisition API with CDS Hooks (`requisition-channel.ts`,
 * the default) or a plain FHIR transaction over REST.
 */
export interface OrderChannel {
  readonly name: string;
  /**
   * Places one order (its ServiceRequest and, for lab orders, the Specimen to be collected).
   * Undefined when the orderer withdrew it (a block it may not lift): no result follows.
   */
  place(order: DemoOrder, resources: readonly DemoResource[]): Promise<PlacedOrder | undefined>;
}

/** POSTs JSON with a bearer token; a non-2xx answer is an error carrying the body (OperationOutcome) text. */
export async function postJson(url: string, token: string, body: unknown, type = 'application/json'): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': type, accept: type },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** Resources as a FHIR transaction Bundle (PUT by id, so a retry is not duplicated) POSTed to `<baseUrl>/fhir`. */
export async function putTransaction(baseUrl: string, token: string, resources: readonly DemoResource[]) {
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })),
  };
  await postJson(`${baseUrl}/fhir`, token, bundle, 'application/fhir+json');
}

/** Orders as a FHIR transaction over REST with an integration token; the placer number is the demo EPJ's. */
export function restOrderChannel(baseUrl: string, token: () => Promise<string>): OrderChannel {
  return {
    name: 'fhir-rest',
    async place(order, resources) {
      await putTransaction(baseUrl, await token(), resources);
      return { placer: [order.id, DEMO_PLACER_NAMESPACE], serviceRequest: `${order.id}-sr` };
    },
  };
}

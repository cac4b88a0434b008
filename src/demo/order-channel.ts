import type { DemoResource } from '../core/demo/index.ts';

/**
 * Where the simulator places orders. For now a FHIR transaction over the REST API; the
 * order-entry/requisition API (built separately) will be a second implementation of this interface.
 */
export interface OrderChannel {
  readonly name: string;
  /** Places one order (its ServiceRequest and, for lab orders, the Specimen to be collected). */
  place(resources: readonly DemoResource[]): Promise<void>;
}

/**
 * Orders as a FHIR transaction Bundle (PUT by id, so a retried order is not duplicated) POSTed to
 * `<baseUrl>/fhir` with a bearer token; a non-2xx answer is an error carrying the OperationOutcome text.
 */
export function restOrderChannel(baseUrl: string, token: () => Promise<string>): OrderChannel {
  return {
    name: 'fhir-rest',
    async place(resources) {
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: resources.map((r) => ({
          resource: r,
          request: { method: 'PUT', url: `${r.resourceType}/${r.id}` },
        })),
      };
      const res = await fetch(`${baseUrl}/fhir`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await token()}`,
          'content-type': 'application/fhir+json',
          accept: 'application/fhir+json',
        },
        body: JSON.stringify(bundle),
      });
      if (!res.ok)
        throw new Error(`order rejected by ${baseUrl}/fhir: ${res.status} ${(await res.text()).slice(0, 300)}`);
      await res.arrayBuffer();
    },
  };
}

/** Requests carrying the same value in this header stick to one version while a canary runs (either protocol). */
export const ROUTING_KEY_HEADER = 'x-routing-key';

/** The backend this page runs the suite on: `?backend=webgl|wasm|cpu|webgpu` (default cpu). */
export function requestedBackend(): string {
  return new URLSearchParams(location.search).get('backend') ?? 'cpu';
}

/** Messages between infra-validation and its serving-runtime child process, over an IPC channel with 'advanced' (structured-clone) serialization so NaN and Infinity arrive as themselves. */
export type ParentMessage = { type: 'run'; id: number; x: number[]; n: number; width: number; outputName: string } | { type: 'exit' };

export type ChildMessage =
  | { type: 'ready'; inputNames: string[]; outputNames: string[] }
  | { type: 'result'; id: number; outputs: number[]; dims: number[]; ms: number }
  | { type: 'error'; id: number | null; message: string };

// jstat ships no types; these are the functions the drift statistics use.
declare module 'jstat' {
  export const jStat: {
    chisquare: { cdf(x: number, dof: number): number };
  };
}

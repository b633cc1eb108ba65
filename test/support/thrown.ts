import { expect } from 'vitest'

/** The error f throws, checked to be of class C (a test fails if f throws another kind, or nothing). */
export const thrown = <C extends new (...args: never[]) => Error>(cls: C, f: () => unknown): InstanceType<C> => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(cls)
    return e as InstanceType<C>
  }
  throw new Error(`expected a ${cls.name}, but nothing was thrown`)
}

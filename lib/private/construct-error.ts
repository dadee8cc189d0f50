import type { IConstruct } from 'constructs';

/** An error that names the construct that raised it, by class and path, then says what to do. */
export function constructError(scope: IConstruct, message: string): Error {
  return new Error(`${scope.constructor.name} ${scope.node.path}: ${message}`);
}

// The one prepared-statement cache of the REST service (@basalt/db's StatementNames): statements are generated per
// query shape with every value bound, keyed by node-pg's Connection object.
import { StatementNames } from '@basalt/db';

export const restStatements = new StatementNames('rest');

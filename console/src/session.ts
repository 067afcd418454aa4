// Who is signed in: the key's identity from `/v1/me`, and whether it is the platform's.

import { createContext, useContext } from "react";

export interface Me {
  id: string;
  tenant: string | null;
  roles: string[];
}

export const Session = createContext<Me | null>(null);

export function useMe(): Me {
  const me = useContext(Session);
  if (!me) throw new Error("no session");
  return me;
}

/** Operators and admins of the platform (not a tenant's key). */
export function isPlatform(me: Me): boolean {
  return me.tenant === null && me.roles.some((r) => r === "operator" || r === "admin");
}

export function can(me: Me, ...roles: string[]): boolean {
  return me.roles.some((r) => roles.includes(r));
}

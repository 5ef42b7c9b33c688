// Who is signed in: the menu and the write buttons follow the user's role; the API decides.
import { reactive } from "vue";
import { optional } from "./api";

const ROLE_TEXT: Record<string, string> = {
  admin: "管理员", province: "省级", city: "市级", county: "县级", depot: "库点",
  keeper: "保管员", inspector: "质检员", manager: "库主任", supervisor: "监管人员", viewer: "只读",
};

export const me = reactive({ name: "", role: "", roles: [] as string[], scope: "", canWrite: true, roleText: "" });

export async function loadMe(): Promise<void> {
  try {
    const answer = await optional<{ name: string; role: string; roles?: string[]; scope: string; can_write: boolean }>("/me");
    if (!answer) return;
    Object.assign(me, {
      name: answer.name, role: answer.role, roles: answer.roles ?? [answer.role], scope: answer.scope,
      canWrite: answer.can_write,
      roleText: [answer.role, ...(answer.roles ?? [])].filter((r, i, all) => all.indexOf(r) === i)
        .map((r) => ROLE_TEXT[r] ?? r).join("、") + (answer.can_write ? "" : "，只读"),
    });
  } catch { /* the page still works without it */ }
}

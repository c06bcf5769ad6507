import type { Socket } from 'node:net';
import { OK, array, bulk, error, integer, type Reply } from '../../../shared/protocol/reply.ts';
import { log } from '../../../shared/server/log.ts';
import type { ReplicationAnswer, ReplicationPrimary } from './primary.ts';
import { Replica, type ReplicaHooks } from './replica.ts';

// Which side of replication this server is on, and the commands that switch
// it: REPLICAOF host port (SLAVEOF too) makes it a replica, read-only;
// REPLICAOF NO ONE promotes it, keeping its data. The primary side
// (primary.ts) is always there: a replica may have replicas of its own, and
// WAIT, PSYNC and INFO's stream figures come from it.

export const READONLY_ERROR = error('READONLY', "You can't write against a read only replica.");
const NOREPLICAS_ERROR = error('NOREPLICAS', 'Not enough good replicas to write.');

/** min-replicas-to-write and min-replicas-max-lag (0 replicas: no condition). */
export interface WriteCondition {
  minReplicas: number;
  maxLagSeconds: number;
}

/** What the server does as its role changes, besides the replica's own hooks. */
export interface RoleHooks extends ReplicaHooks {
  /** It became a replica (true: --replicaof, REPLICAOF host port) or a primary again (false: REPLICAOF NO ONE). */
  roleChanged?(isReplica: boolean): void;
}

export class ReplicationRole {
  private replica: Replica | null = null;

  constructor(
    readonly primary: ReplicationPrimary,
    private readonly hooks: RoleHooks,
    private readonly condition: WriteCondition = { minReplicas: 0, maxLagSeconds: 10 },
  ) {}

  /**
   * Why a client's write is refused now, or null: -READONLY on a replica;
   * -NOREPLICAS on a primary with fewer than min-replicas-to-write replicas
   * that acknowledged within min-replicas-max-lag seconds (Redis's way to
   * bound how much a cut-off primary accepts; it is no guarantee either).
   */
  refuseWrite(): Reply | null {
    if (this.replica !== null) return READONLY_ERROR;
    if (this.condition.minReplicas > 0 && this.primary.goodReplicas(this.condition.maxLagSeconds) < this.condition.minReplicas) {
      return NOREPLICAS_ERROR;
    }
    return null;
  }

  /** Whether client writes may be refused (a replica, or a primary with a write condition). */
  get mayRefuseWrites(): boolean {
    return this.replica !== null || this.condition.minReplicas > 0;
  }

  /** Becomes a replica of host:port (dropping any earlier primary). */
  replicaOf(host: string, port: number): void {
    this.replica?.stop();
    log(`replication: replica of ${host}:${port}`);
    this.replica = new Replica(host, port, this.hooks);
    this.hooks.roleChanged?.(true);
  }

  /** REPLICAOF NO ONE: a primary again, with the data it has. */
  promote(): void {
    if (this.replica === null) return;
    log(`replication: REPLICAOF NO ONE: no longer a replica of ${this.replica.host}:${this.replica.port}; keeping the data`);
    this.replica.stop();
    this.replica = null;
    this.hooks.roleChanged?.(false);
  }

  /** Replication's commands; null for any other. */
  answer(args: Buffer[], socket: Socket): ReplicationAnswer | null {
    // Asked for every request: names of 4 to 9 letters only (ROLE, WAIT, SYNC,
    // PSYNC, SLAVEOF, REPLCONF, REPLICAOF), so SET and GET cost one comparison.
    const length = args[0]!.length;
    if (length < 4 || length > 9) return null;
    const name = args[0]!.toString('latin1').toUpperCase();
    if (name === 'REPLICAOF' || name === 'SLAVEOF') return { reply: this.replicaOfCommand(args) };
    if (name === 'ROLE' && this.replica !== null) {
      const r = this.replica;
      return { reply: array([bulk('slave'), bulk(r.host), integer(r.port), bulk(r.state), integer(r.offset)]) };
    }
    return this.primary.answer(args, socket);
  }

  private replicaOfCommand(args: Buffer[]): Reply {
    if (args.length !== 3) return error('ERR', "wrong number of arguments for 'replicaof' command");
    const host = args[1]!.toString();
    const portText = args[2]!.toString();
    if (host.toUpperCase() === 'NO' && portText.toUpperCase() === 'ONE') {
      this.promote();
      return OK;
    }
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return error('ERR', 'Invalid master port');
    if (this.replica !== null && this.replica.host === host && this.replica.port === port) {
      return { type: 'simple', value: 'OK Already connected to specified master' };
    }
    this.replicaOf(host, port);
    return OK;
  }

  /** INFO's replication fields: the replica's, over the primary side's when a replica. */
  info(): Record<string, string | number> {
    return { ...this.primary.info(), ...(this.replica?.info() ?? {}) };
  }

  close(): void {
    this.replica?.stop();
    this.primary.close();
  }
}

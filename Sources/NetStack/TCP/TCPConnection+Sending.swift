extension TCPConnection {
    /// The sequence number after the last buffered byte (where our FIN goes).
    var dataEnd: SequenceNumber { sndUna + sendBuffer.count }

    /// Whether our FIN has been sent (it occupies the sequence number at `dataEnd`).
    var finSent: Bool { finQueued && dataEnd < sndMax }

    /// Handles the ACK and window fields of an acceptable segment.
    func processAcknowledgment(_ segment: TCPSegment, sequence: SequenceNumber, _ stack: NetStack) {
        let ack = SequenceNumber(segment.acknowledgmentNumber)
        if sndMax < ack {
            sendAck(stack)  // acknowledges something we never sent
            return
        }
        let window = Int(segment.window) << Int(sendScale)
        let acked = ack - sndUna
        if acked > 0 {
            let dataAcked = min(acked, sendBuffer.count)
            let finWasSent = finSent
            sendBuffer.removeFirst(dataAcked)
            sndUna = ack
            if sndNxt < sndUna { sndNxt = sndUna }
            if let probe = rttProbeEnd, !(ack < probe) {
                timer.sample(stack.now &- rttProbeSentAt)
                rttProbeEnd = nil
            }
            timer.progressed()
            retransmissions = 0
            rtoDeadline = sndUna == sndMax ? nil : stack.now + timer.current
            if let recovery = recoveryPoint {
                if ack < recovery {
                    retransmitFirst(stack)  // NewReno partial ACK: the next hole
                } else {
                    recoveryPoint = nil
                    congestionWindow = max(slowStartThreshold, 2 * mss)
                }
            } else if congestionWindow < slowStartThreshold {
                congestionWindow += acked
            } else {
                congestionWindow += max(1, mss * mss / congestionWindow)
            }
            duplicateAcks = 0
            if finWasSent && ack == sndMax { ourFinAcknowledged(stack) }
            guard state != .closed else { return }
        } else if acked == 0 && segment.payload.isEmpty && !segment.flags.contains(.fin)
            && window == sndWnd && sndUna < sndMax
        {
            duplicateAcks += 1
            if duplicateAcks == 3 && recoveryPoint == nil {
                stack.statistics.fastRetransmits += 1
                slowStartThreshold = max((sndMax - sndUna) / 2, 2 * mss)
                congestionWindow = slowStartThreshold + 3 * mss
                recoveryPoint = sndMax
                retransmitFirst(stack)
            } else if duplicateAcks > 3 {
                congestionWindow += mss  // each further duplicate means a segment left the network
            }
        }
        if sndWl1 < sequence || (sndWl1 == sequence && !(ack < sndWl2)) {
            sndWnd = window
            sndWl1 = sequence
            sndWl2 = ack
            if window > 0 { persistDeadline = nil }
        }
        if wantsWritable && sendBuffer.freeSpace >= sendBuffer.capacity / 4 && canSend {
            wantsWritable = false
            stack.deliver(.writable(id))
        }
    }

    private func ourFinAcknowledged(_ stack: NetStack) {
        switch state {
        case .finWait1: state = .finWait2
        case .closing, .lastAck: terminate(stack, event: .closed(id))
        default: break
        }
    }

    /// Sends what the peer's window and the congestion window allow, then our FIN if due.
    func transmit(_ stack: NetStack) {
        guard state.sendsData else { return }
        while true {
            let end = dataEnd
            if sndNxt < end {
                let window = min(sndWnd, congestionWindow)
                let usable = (sndUna + window) - sndNxt
                let remaining = end - sndNxt
                var length = min(mss, remaining)
                if usable < length {
                    // Sender-side SWS avoidance: wait for the window rather than dribble,
                    // unless nothing is in flight to bring an ACK.
                    if usable <= 0 || sndUna < sndMax { break }
                    length = usable
                }
                let offset = sndNxt - sndUna
                let last = length == remaining
                let fin = last && finQueued
                var flags: TCPFlags = .ack
                if last { flags.insert(.psh) }
                if fin { flags.insert(.fin) }
                if sndNxt < sndMax {
                    stack.statistics.retransmittedSegments += 1
                } else if rttProbeEnd == nil {
                    rttProbeEnd = sndNxt + length
                    rttProbeSentAt = stack.now
                }
                sendSegment(stack, sequence: sndNxt, flags: flags, offset: offset, length: length)
                sndNxt += length + (fin ? 1 : 0)
                if sndMax < sndNxt { sndMax = sndNxt }
                if fin { enterFinSent() }
                if rtoDeadline == nil { rtoDeadline = stack.now + timer.current }
            } else if finQueued && sndNxt == end {
                sendSegment(stack, sequence: sndNxt, flags: [.ack, .fin])
                sndNxt += 1
                if sndMax < sndNxt { sndMax = sndNxt }
                enterFinSent()
                if rtoDeadline == nil { rtoDeadline = stack.now + timer.current }
            } else {
                break
            }
        }
        // Data waits behind a zero window with nothing in flight: probe it (persist timer).
        if sndWnd == 0 && sndNxt < dataEnd && sndUna == sndMax && persistDeadline == nil {
            persistDeadline = stack.now + timer.current
        }
    }

    private func enterFinSent() {
        switch state {
        case .established: state = .finWait1
        case .closeWait: state = .lastAck
        default: break
        }
    }

    /// Resends the first unacknowledged segment (data or FIN).
    func retransmitFirst(_ stack: NetStack) {
        rttProbeEnd = nil  // Karn: no RTT sample from a retransmitted segment
        stack.statistics.retransmittedSegments += 1
        let length = min(mss, sendBuffer.count)
        if length > 0 {
            let fin = finSent && length == sendBuffer.count
            var flags: TCPFlags = .ack
            if fin { flags.insert(.fin) }
            sendSegment(stack, sequence: sndUna, flags: flags, offset: 0, length: length)
        } else if finSent {
            sendSegment(stack, sequence: sndUna, flags: [.ack, .fin])
        }
        rtoDeadline = stack.now + timer.current
    }

    /// Runs the timers that are due at `stack.now`.
    func handleTimers(_ stack: NetStack) {
        let now = stack.now
        if let d = acceptDeadline, d <= now {
            // The owner never answered the SYN: refuse it.
            sendSegment(stack, sequence: SequenceNumber(0), flags: [.rst, .ack])
            stack.statistics.resetsSent += 1
            terminate(stack, event: .reset(id))
            return
        }
        if let d = ackDeadline, d <= now { sendAck(stack) }
        if let d = rtoDeadline, d <= now {
            retransmissions += 1
            stack.statistics.retransmissionTimeouts += 1
            if retransmissions > stack.configuration.maximumRetransmissions {
                sendSegment(stack, sequence: sndNxt, flags: [.rst, .ack])
                stack.statistics.resetsSent += 1
                terminate(stack, event: .reset(id))
                return
            }
            timer.expired()
            rttProbeEnd = nil
            if state == .synReceived {
                sendSynAck(stack)
                rtoDeadline = now + timer.current
            } else {
                // Go back to the first unacknowledged byte with a one-segment window (RFC 5681).
                slowStartThreshold = max((sndMax - sndUna) / 2, 2 * mss)
                congestionWindow = mss
                recoveryPoint = nil
                duplicateAcks = 0
                sndNxt = sndUna
                rtoDeadline = nil
                transmit(stack)
                if rtoDeadline == nil && sndUna < sndMax { rtoDeadline = now + timer.current }
            }
        }
        if let d = persistDeadline, d <= now {
            if sndWnd == 0 && sndNxt < dataEnd {
                // A zero-length segment below SND.UNA makes the peer answer with its window.
                sendSegment(stack, sequence: sndUna + -1, flags: .ack)
                timer.expired()
                persistDeadline = now + timer.current
            } else {
                persistDeadline = nil
            }
        }
    }
}
